"""The transport the settings choose (`SANBUTING_SMS_SINK`): the SMS file sink, or the SMPP
gateway configured by `SANBUTING_SMPP_*`."""

from __future__ import annotations

from sanbuting.settings import Settings
from sanbuting.sms.file_sink import SmsFileSink
from sanbuting.sms.gateway import GatewayConfig, SmppGateway
from sanbuting.sms.transport import OnReceipt, Transport


def gateway_config(settings: Settings, connect_attempts: int | None = None) -> GatewayConfig:
    """The gateway's settings; `connect_attempts` binds tried at the start (None: forever)."""
    return GatewayConfig(
        host=settings.smpp_host,
        port=settings.smpp_port,
        system_id=settings.smpp_system_id,
        password=settings.smpp_password,
        system_type=settings.smpp_system_type,
        source_addr=settings.smpp_source_addr,
        window=settings.smpp_window,
        rate=settings.smpp_rate,
        connect_attempts=connect_attempts,
    )


def transport_for(
    settings: Settings, on_receipt: OnReceipt, connect_attempts: int | None = None
) -> Transport:
    """The file sink or the SMPP gateway, as `settings.sms_sink` says."""
    if settings.sms_sink == "smpp":
        return SmppGateway(gateway_config(settings, connect_attempts), on_receipt)
    return SmsFileSink(settings.sms_file, on_receipt)
