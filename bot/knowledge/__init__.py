"""The knowledge base: loading documents, chunking, embedding, storing, retrieving."""
