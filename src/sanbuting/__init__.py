"""sanbuting (三不停): arrears collection, relief policies and service for power, telecom, gas."""

__version__ = "0.1.0"
