// An HTTP/1.1 client over plain TCP or TLS, for image servers and OCI registries.
