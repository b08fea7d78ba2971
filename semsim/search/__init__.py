"""Finding vectors: one vocabulary for every store, the FAISS store and the Milvus store,
reopening saves, the search engine of notebook 10, reranking, and FAQ matching."""
