"""countersign: the Python client of the countersign human-confirmation gateway.

Standard library only (Python 3.9+); receipt signature checks use ``cryptography`` when it
is installed. The pieces:

* :class:`Client`: the v1 API (create, get, list, wait, decide, cancel, keys), blocking and
  ``*_async``; :meth:`Client.wait` long-polls through the server's 60 s cap and retries
  transient failures;
* :func:`requires_approval`: a decorator that runs a function only once a person approved
  the call, handing it the signed receipt;
* :func:`pause_task` / :func:`resume_task`: a task waits for a person's free-text answer;
* :func:`verify_receipt`: checks a receipt against ``GET /v1/keys``.

See clients/python/README.md.
"""

from .approval import (RECEIPT_PARAMETER, Approval, current_approval, current_receipt,
                       get_default_client, json_safe, requires_approval, set_default_client)
from .client import DEFAULT_URL, MAX_POLL_SECONDS, Client
from .errors import (ApiError, ApprovalCancelled, ApprovalDenied, ApprovalDeniedAtDeadline,
                     ApprovalError, ApprovalExpired, ApprovalTimedOut, CountersignError,
                     NoTokenError, ReceiptAlreadyConsumed, ReceiptInvalid, TransportError,
                     approval_error, approval_error_class)
from .receipts import arguments_sha256, canonical_json, decode_receipt, verify_receipt
from .tasks import (PAUSE_ACTION, list_paused_tasks, pause_task, pause_task_async, resume_task,
                    resume_task_async)

__version__ = "0.1.0"

__all__ = [
    "Client", "DEFAULT_URL", "MAX_POLL_SECONDS",
    "requires_approval", "Approval", "current_approval", "current_receipt",
    "get_default_client", "set_default_client", "json_safe", "RECEIPT_PARAMETER",
    "pause_task", "pause_task_async", "resume_task", "resume_task_async", "list_paused_tasks",
    "PAUSE_ACTION",
    "verify_receipt", "decode_receipt", "canonical_json", "arguments_sha256",
    "CountersignError", "TransportError", "ApiError", "NoTokenError", "ApprovalError",
    "ApprovalDenied",
    "ApprovalTimedOut", "ApprovalExpired", "ApprovalDeniedAtDeadline", "ApprovalCancelled",
    "approval_error", "approval_error_class", "ReceiptInvalid", "ReceiptAlreadyConsumed",
    "__version__",
]
