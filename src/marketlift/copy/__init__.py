"""LLM touchpoints: grounded, localized copy for buyers, safe by construction."""
