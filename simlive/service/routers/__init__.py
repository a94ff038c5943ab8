"""The HTTP endpoints, one small router per part of the domain."""
