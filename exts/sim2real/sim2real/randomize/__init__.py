"""Declarative, engine-neutral domain randomization: profiles, samplers, schedules, curriculum, ADR."""
