"""Prometheus metrics of turns, escalations, stages, tokens and cost (``GET /metrics``).

Each app gets its own registry, so several apps in one process (tests) do not clash.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from bot.core.turn import TurnOutcome

_STAGE_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.turns = Counter(
            "supportbot_turns",
            "Bot turns by the tier that answered and the outcome.",
            ["tier", "outcome"],
            registry=r,
        )
        self.escalations = Counter(
            "supportbot_escalations",
            "Escalations to a person, by reason.",
            ["reason"],
            registry=r,
        )
        self.stage_seconds = Histogram(
            "supportbot_stage_seconds",
            "Latency of each stage of a turn.",
            ["stage"],
            buckets=_STAGE_BUCKETS,
            registry=r,
        )
        self.turn_seconds = Histogram(
            "supportbot_turn_seconds",
            "Latency of a whole bot turn.",
            buckets=_STAGE_BUCKETS,
            registry=r,
        )
        self.tokens = Counter(
            "supportbot_tokens",
            "Model tokens by tier and direction.",
            ["tier", "direction"],
            registry=r,
        )
        self.cost = Counter(
            "supportbot_cost_usd",
            "Model cost in USD (from the price table), by tier.",
            ["tier"],
            registry=r,
        )
        self.connections = Gauge(
            "supportbot_websocket_connections",
            "Open WebSocket connections.",
            ["socket"],
            registry=r,
        )

        self.uploads = Counter(
            "supportbot_uploads",
            "Uploads by kind and outcome (accepted, or the refusal code).",
            ["kind", "outcome"],
            registry=r,
        )
        self.perception_seconds = Histogram(
            "supportbot_perception_seconds",
            "Time from an upload being stored to its transcript or text being stored.",
            ["kind"],
            buckets=_STAGE_BUCKETS,
            registry=r,
        )

    def observe_perception(self, kind: str, seconds: float) -> None:
        self.perception_seconds.labels(kind).observe(seconds)

    def observe_turn(self, outcome: TurnOutcome, latency_ms: float) -> None:
        self.turns.labels(outcome.tier, "escalated" if outcome.escalated else "answered").inc()
        if outcome.reason:
            self.escalations.labels(outcome.reason).inc()
        self.turn_seconds.observe(latency_ms / 1000)
        for step in outcome.decision:
            self.stage_seconds.labels(step.stage).observe(step.ms / 1000)
            # A follow-up's rewrite is counted as its own "tier": the mini model's tokens.
            if step.stage.startswith("answer:") or step.stage == "rewrite":
                tier = step.stage.removeprefix("answer:")
                self.tokens.labels(tier, "in").inc(step.detail.get("tokens_in", 0))
                self.tokens.labels(tier, "out").inc(step.detail.get("tokens_out", 0))
                self.cost.labels(tier).inc(step.detail.get("cost_usd", 0.0))

    def render(self) -> bytes:
        return generate_latest(self.registry)
