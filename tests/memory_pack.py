"""A small pack whose rule remembers (a tenant's home region), shared by the tests of the
worker's memory and of re-keying."""

HOME_REGION_POLICY = """apiVersion: auditor/v1
id: memory
company: {id: me, country: DK}
home_regions: {EU1: {locations: ["country:DE"]}, EU2: {locations: ["country:SE"]}}
data_classes: {transcript: {}}
purposes: {service_delivery: {}}
rules:
  - {id: memory.home-region, kind: home_region, description: d, severity: high, effect: deny,
     citation: "Once set, Home Regions cannot be changed."}
"""
