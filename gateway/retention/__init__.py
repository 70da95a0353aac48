"""What the law says to keep, for how long, and who may read what is kept
(`policies/retention.toml`).
"""

from gateway.retention.rules import RetentionRules, Rule

__all__ = ["RetentionRules", "Rule"]
