"""The credit ledger: every change to an account's credits is one row, written with the change.

    reserve(db, account, job_id, 70)      # at creation; InsufficientCredits (402) if short
    settle(db, account, job, 64)          # completion: the reservation back, the actual cost taken
    release(db, account, job)             # failure or cancellation: the reservation back
    grant(db, account, 500, "purchase")   # credits in

Rows record available credits (balance - reserved): `reserve` and `consume` are negative,
`purchase`, `bonus`, `refund` and `release` positive, and an account's amounts add up to its
available credits. The caller holds the account row FOR UPDATE.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from api.errors import ApiError
from api.tables import Account, CreditTransaction, Job

GRANT_TYPES = ("purchase", "bonus", "refund")


def _record(db: Session, account: Account, *, type_: str, amount: int, job_id: str | None,
            description: str, balance_delta: int, reserved_delta: int) -> None:
    before = account.available_credits
    account.credit_balance += balance_delta
    account.credit_reserved += reserved_delta
    db.add(CreditTransaction(account_id=account.id, job_id=job_id, type=type_, amount=amount,
                             balance_before=before, balance_after=account.available_credits,
                             description=description))


def reserve(db: Session, account: Account, job_id: str, credits: int) -> None:
    if account.available_credits < credits:
        raise ApiError(402, "INSUFFICIENT_CREDITS", "Insufficient credits",
                       details={"required": credits, "available": account.available_credits})
    _record(db, account, type_="reserve", amount=-credits, job_id=job_id, description="job created",
            balance_delta=0, reserved_delta=credits)


def release(db: Session, account: Account, job: Job, *, why: str) -> None:
    if job.credits_reserved:
        _record(db, account, type_="release", amount=job.credits_reserved, job_id=job.id, description=why,
                balance_delta=0, reserved_delta=-job.credits_reserved)
        job.credits_reserved = 0


def settle(db: Session, account: Account, job: Job, cost: int) -> None:
    """Charges `cost` (at most what was reserved) and frees the rest of the reservation."""
    charged = min(cost, job.credits_reserved)
    release(db, account, job, why="job completed: reservation settled")
    _record(db, account, type_="consume", amount=-charged, job_id=job.id, description="job completed",
            balance_delta=-charged, reserved_delta=0)
    job.credits_consumed = charged


def grant(db: Session, account: Account, credits: int, type_: str, description: str = "") -> None:
    _record(db, account, type_=type_, amount=credits, job_id=None, description=description,
            balance_delta=credits, reserved_delta=0)
