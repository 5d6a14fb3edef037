"""Deploy rehearsal: the pinned CDK CLI deploys every stack into moto server (docs/rehearsal.md)."""
