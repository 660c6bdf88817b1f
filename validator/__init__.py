"""Trusted Delivery Validator: policy-as-code checks for delivery artifacts."""

__version__ = "0.1.0"
