"""Starts moto's server (the local AWS) with one fix: python moto_server.py PORT [--serial]

moto 5.2.1 backs up every table a TransactWriteItems call names with copy.deepcopy before running
it, so each transaction costs time and memory in proportion to the whole table: a 300-file Drive
sync grew the server by a gigabyte, and a 10,000-file one slowed to minutes per page. Here the
backup holds only the items the transaction names, and a cancelled transaction puts exactly those
back (the all-or-nothing behaviour DynamoDB has, which the adapter tests check).

--serial handles one request at a time: moto's threaded server updates items with an unlocked
read-modify-write, so concurrent ADDs to one item can lose increments there.
"""

import copy
import sys

import moto.dynamodb.models as ddb_models
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.table import Table
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
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


ddb_models.copy = _NoTableCopies()
DynamoDBBackend.transact_write_items = transact_write_items

if __name__ == "__main__":
    port = int(sys.argv[1])
    serial = "--serial" in sys.argv[2:]
    app = DomainDispatcherApplication(create_backend_app)
    run_simple("127.0.0.1", port, app, threaded=not serial, use_reloader=False)
