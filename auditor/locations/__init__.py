"""Cloud location catalogue: which country each AWS, Azure and GCP region is in."""

from auditor.locations.catalogue import PROVIDERS, CloudCatalogue, Region, load_catalogue

__all__ = ["PROVIDERS", "CloudCatalogue", "Region", "load_catalogue"]
