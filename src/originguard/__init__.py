"""originguard: no viewer reaches the origin without passing the CDN edge."""

__version__ = "0.1.0"
