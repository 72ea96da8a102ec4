"""Starts moto's server (the local AWS) with three fixes: python moto_server.py PORT [--serial]

moto 5.2.1 backs up every table a TransactWriteItems call names with copy.deepcopy before running
it, so each transaction costs time and memory in proportion to the whole table: a 300-file Drive
sync grew the server by a gigabyte, and a 10,000-file one slowed to minutes per page. Here the
backup holds only the items the transaction names, and a cancelled transaction puts exactly those
back (the all-or-nothing behaviour DynamoDB has, which the adapter tests check).

DynamoDB index queries: moto finds an index's items by sorting every item of the table by its
primary key (DynamoType comparisons in Python) and then filtering; the query sorts its matches by
the index keys itself, so that first sort only costs time (most of moto's time once the SQS fix
was in). Here index queries walk the items unsorted; scans and table queries are unchanged.

SQS: every SendMessage builds the queue's attributes, which count the messages by asking each one
for the time (a datetime per message); with a few thousand waiting that was over half of moto's
time in a 10,000-file sync (py-spy). The counts here read the clock once; they are the same counts.

Garbage collection: CPython's full collection walks every tracked object, so with the tables and
queues of a busy run it stalled every request for 100-250 ms (a benchmark's p99 was moto's GC):
the objects that exist at start are frozen out of it, and full collections (the third generation)
are left off; young ones still run (a large young generation brought the stalls back). Only
long-lived cyclic garbage stays; answers are unchanged.

--serial handles one request at a time: moto's threaded server updates items with an unlocked
read-modify-write, so concurrent ADDs to one item can lose increments there.
"""

import copy
import gc
import sys
import threading

import moto.dynamodb.models as ddb_models
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.table import Table
from moto.core.utils import unix_time_millis
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from moto.sqs.models import Queue
from werkzeug.serving import run_simple


class _NoTableCopies:
    """moto's module-level `copy`, minus the whole-table deep copies."""

    def __getattr__(self, name):
        return getattr(copy, name)

    @staticmethod
    def deepcopy(value, memo=None):
        if isinstance(value, Table):
            return value  # the items are backed up one by one below
        return copy.deepcopy(value, memo)


_transact = DynamoDBBackend.transact_write_items


def _item_key(table, op):
    if "Item" in op:
        key = {table.hash_key_attr: op["Item"][table.hash_key_attr]}
        if table.range_key_attr is not None:
            key[table.range_key_attr] = op["Item"][table.range_key_attr]
        return key
    return op.get("Key")


def transact_write_items(self, transact_items):
    backups = []
    for entry in transact_items:
        _, op = next(iter(entry.items()))
        name = op.get("TableName")
        table = self.tables.get(name)
        key = table and _item_key(table, op)
        if key is None:
            continue
        current = self.get_item(name, key)
        backups.append((name, key, current.to_json()["Attributes"] if current else None))
    try:
        _transact(self, transact_items)
    except Exception:
        for name, key, attributes in reversed(backups):
            if attributes is None:
                if self.get_item(name, key) is not None:
                    self.delete_item(name, key)
            else:
                self.put_item(name, attributes)
        raise


def _visible_and_ready(queue):
    now = unix_time_millis()
    return [m for m in queue._messages if now > m.visible_at and not now < m.delayed_until]


def _not_visible(queue):
    now = unix_time_millis()
    return len([m for m in queue._messages if not now > m.visible_at])


def _delayed(queue):
    now = unix_time_millis()
    return len([m for m in queue._messages if now < m.delayed_until])


Queue.messages = property(_visible_and_ready)
Queue.approximate_number_of_messages = property(lambda q: len(_visible_and_ready(q)))
Queue.approximate_number_of_messages_not_visible = property(_not_visible)
Queue.approximate_number_of_messages_delayed = property(_delayed)

_index_query = threading.local()
_all_items = Table.all_items
_table_query = Table.query


def all_items(self):
    if getattr(_index_query, "active", False):
        items = []
        for hash_set in self.items.values():
            if self.range_key_attr:
                items.extend(hash_set.values())
            else:
                items.append(hash_set)
        return items
    return _all_items(self)


def query(self, *args, **kwargs):
    index_name = kwargs.get("index_name", args[7] if len(args) > 7 else None)
    _index_query.active = bool(index_name)
    try:
        return _table_query(self, *args, **kwargs)
    finally:
        _index_query.active = False


Table.all_items = all_items
Table.query = query

ddb_models.copy = _NoTableCopies()
DynamoDBBackend.transact_write_items = transact_write_items

if __name__ == "__main__":
    port = int(sys.argv[1])
    serial = "--serial" in sys.argv[2:]
    app = DomainDispatcherApplication(create_backend_app)
    gc.freeze()
    # CPython's default young thresholds; the third is never reached.
    gc.set_threshold(700, 10, 1_000_000)
    run_simple("127.0.0.1", port, app, threaded=not serial, use_reloader=False)
