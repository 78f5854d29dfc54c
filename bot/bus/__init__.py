"""Fan-out of live conversation frames: in-process, or Redis pub/sub across replicas."""
