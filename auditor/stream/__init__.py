"""The streaming worker: a Faust app that decides every lineage event on Kafka."""
