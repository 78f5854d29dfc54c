"""Phone calls: wire formats (serializers, no I/O) and, around them, the transports."""
