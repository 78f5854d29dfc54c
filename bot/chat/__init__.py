"""The conversation service: the channel-independent core that drives a conversation."""
