"""Training with sentence-transformers' current trainer API: fine-tuning a bi-encoder
(notebook 09) and notebook 07's cross-encoder, trained once at set-up."""
