"""The built-in sandbox payment provider and the merchant side of online payment: orders,
the provider's checkout and order-query API, its signed asynchronous notifications, and
posting a paid order once through the idempotent payment service (`checkout.service`)."""
