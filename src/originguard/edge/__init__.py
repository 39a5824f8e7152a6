"""The CDN edge: viewer policy, behaviours, WAF, cache, origin signing over HTTPS."""
