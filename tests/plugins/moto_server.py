"""Moto server fixtures (filled by the AWS collector work)."""
