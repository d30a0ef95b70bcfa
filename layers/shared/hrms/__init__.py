"""HRMS Serverless shared layer: tenancy, data stores, domain logic and the local runtime."""
