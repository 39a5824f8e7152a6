"""HTTP/1.1 engine: server protocol (httptools on uvloop), pooled upstream client, header rules."""
