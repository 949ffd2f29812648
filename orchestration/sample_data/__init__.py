"""Sample-data generator: a deterministic landing zone for a fictional company."""

from orchestration.sample_data.generator import GenerationSummary, generate

__all__ = ["GenerationSummary", "generate"]
