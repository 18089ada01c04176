"""The memory of rules that remember: stores, typed keys, and what one event tells them."""

from auditor.memory.clock import domain_of
from auditor.memory.keys import MemoryKey, key_text
from auditor.memory.seen import DAY, Memo, Overdue, Seen
from auditor.memory.store import DictStore, DictStores, Store, Stores

__all__ = ["DAY", "DictStore", "DictStores", "Memo", "MemoryKey", "Overdue", "Seen", "Store",
           "Stores", "domain_of", "key_text"]
