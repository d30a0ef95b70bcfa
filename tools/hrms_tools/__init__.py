"""Developer tools of HRMS Serverless: the local runtime (`hrms dev`) and the `hrms` CLI. Never shipped to Lambda."""
