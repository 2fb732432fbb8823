"""Drift review pages: desired sources, reports, items and exports."""
