"""schemathesis hooks for the API conformance stage: the body of a tus PATCH.

`application/offset+octet-stream` is raw bytes; schemathesis knows no generator for it.
"""
from hypothesis import strategies as st

import schemathesis

schemathesis.openapi.media_type(
    "application/offset+octet-stream", st.binary(max_size=4096)
)
