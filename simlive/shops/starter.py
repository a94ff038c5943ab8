"""``simlive target init``: a commented starter target file with every operation.

Generated from the vocabulary (:mod:`simlive.operations`), so it never falls behind
it. A few operations carry an example mapping of a typical REST shop; the rest are
``unsupported`` with what they mean, the placeholders they may use and the fields to extract.
"""

from __future__ import annotations

from simlive.operations import COMMON, OPERATIONS

HEAD = """\
# simlive target file: how simlive's operations map onto your shop's HTTP API.
#   simlive target check THIS.yaml --host URL --token-file tokens.json   (preflight)
#   simlive load SCENARIO.yaml --target THIS.yaml --host URL --token-file tokens.json
# Every key is documented in simlive's README ("Testing your own shop"); the JSON Schema
# comes from `simlive schema --target`. Placeholders: {{ name }}; a string that is exactly
# one placeholder keeps the value's type. Every request may use: %s, and
# product.<field> (what create_product extracted).
name: my-shop
timeout: 10            # seconds; no answer by then is recorded as unknown (info)
marker: {header: X-Simlive-Run, value: "{{ run_id }}"}   # tags all test traffic

auth:                  # per role: where the token comes from and how it is sent
  admin: {from: token-file}                 # the token file's "admin" key
  merchant: {from: token-file}
  agent: {from: token-file}
  buyer: {from: token-file}                 # a pool; each Locust user takes its own
  # other forms:
  #   {from: env, env: SHOP_TOKEN}                       tokens separated by commas
  #   {from: create_users, count: 200, account: customer} minted by create_users
  #   {from: start_session, scheme: header, name: Session-Id}  an anonymous session per user
  #   {from: login}            the login operation, for each "username:password" of the
  #                            token file's key (or env); again once on a 401
  #   scheme: bearer (default) | header (name, prefix: "Token ") | cookie (name)
sale: order            # or pay: the operation whose ok takes the stock (many shops: pay)
# states: {paid: [PAID, completed], cancelled: [void]}   # your order states, our words
# refusals: {return_window_closed: {status: [422], when: "code == 'too_late'"}}

operations:
"""

EXAMPLES = {
    "create_product": """\
    method: POST
    url: /api/products
    json: {title: "{{ name }}", sku: "{{ sku }}", price: "{{ price }}", stock: "{{ stock }}"}
    extract: {product_id: id}
""",
    "read_stock": """\
    scope: product                  # or all: one request, extract items [{product, stock}]
    method: GET
    url: /api/products/{{ product_id }}
    extract: {stock: stock}
""",
    "order": """\
    commit: 2                       # the step that takes the stock (default: the last);
                                    # flash-sale buyers run the steps before it ahead
    steps:                          # several requests; fields carry to the next step
      - method: POST
        url: /api/basket/items
        json: {product: "{{ product_id }}", quantity: "{{ quantity }}"}
      - method: POST
        url: /api/checkout
        headers: {Idempotency-Key: "{{ key }}"}
        ok: {status: [200, 201]}
        fail: {status: [409, 422]}  # sold out: an expected refusal
        extract: {order_id: id, state: status}
    # GraphQL: method POST, url /graphql, json {query: "...", variables: {...}},
    # ok: {status: [200], when: "data.checkout.order != null"},
    # fail: {status: [200], when: "length(data.checkout.errors) > `0`"}
""",
}

TAIL = """
state: history-only    # or a listing per part, for example:
# state:
#   ledger:                        # per product: sku, initial, restocked, sold, reserved,
#     request: {method: GET, url: /api/admin/stock, role: admin}   # remaining, released,
#     items: items                 # returned (a field left out counts 0)
#     next: next_page              # the next {{ page }}; null ends (or paging: page |
#                                  # offset, with limit: {{ page }}, {{ offset }}, {{ limit }})
#     fields: {sku: code, initial: stock_initial, remaining: stock_left}
#   orders:                        # id, sku, quantity, state, created_at, paid_at, ...
#   receipts:                      # order_id, receipt_no, issued_at, retain_until
#   tickets:                       # id, kind, state, order_id, created_at, first_reply_at, ...
#   reviews:                       # id, sku, rating, text, hidden, hidden_reason
#   broadcasts:                    # id, state, ended_at, replay {published_at, retain_until}
# Field meanings: simlive/check/state.py. A part left out is not read (its rules: unknown).
# hooks: my_shop.hooks:ShopHooks   # Python for what this file cannot say
"""


def starter() -> str:
    out = [HEAD % ", ".join(COMMON)]
    for name, op in OPERATIONS.items():
        out.append(f"  # {op.doc} (role {op.role}, {op.phase})\n")
        uses = ", ".join(op.uses) or "-"
        out.append(f"  #   placeholders: {uses}; extract: "
                   f"{', '.join(op.extracts + op.optional) or '-'}\n")
        if name in EXAMPLES:
            out.append(f"  {name}:\n{EXAMPLES[name]}")
        else:
            out.append(f"  {name}: unsupported\n")
    out.append(TAIL)
    return "".join(out)
