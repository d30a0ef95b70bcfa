"""Employee documents: metadata in MongoDB, contents in S3 through presigned URLs."""
