"""Data layer: Postgres with Apache AGE and pgvector, and Kafka (KRaft).
`plan.py` declares it (pure); `layer.py` builds it."""
