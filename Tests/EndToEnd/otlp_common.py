"""What the OTLP checks share: reading attributes off opentelemetry-proto
messages, and undoing OTLP/JSON's hex ids for protobuf's JSON parser."""
import base64


def value(any_value):
    """An AnyValue as a Python value (arrays as lists)."""
    kind = any_value.WhichOneof("value")
    if kind == "array_value":
        return [value(item) for item in any_value.array_value.values]
    return getattr(any_value, kind) if kind else None


def attributes(message):
    """A message's attributes as a dict."""
    return {kv.key: value(kv.value) for kv in message.attributes}


def hex_to_base64(node):
    """Undoes OTLP/JSON's hex ids, so that protobuf's JSON parser reads them."""
    if isinstance(node, dict):
        for key, item in node.items():
            if key in ("traceId", "spanId", "parentSpanId") and isinstance(item, str):
                node[key] = base64.b64encode(bytes.fromhex(item)).decode()
            else:
                hex_to_base64(item)
    elif isinstance(node, list):
        for item in node:
            hex_to_base64(item)
    return node
