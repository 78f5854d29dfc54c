"""Chat models: the ``ChatModel`` seam and its implementations."""
