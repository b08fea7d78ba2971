"""Text and vectors, with no model: similarity measures, pooling token vectors, chunking long texts."""
