"""POST /users: a new account, within the caller's rights (`hrms.auth.accounts`).

An admin may give a password, or get a temporary one back once. Anyone else creates only an account
linked to an employee under that employee's email, without a password (else 403 `account-owner`): it
gets a password nobody knows and its owner is mailed a link to choose one, through the outbox event of
POST /auth/forgot-password written in the transaction of the insert. Its own module because it emits:
only CreateUserFunction needs to reach the outbox and may send to its queue.
"""

from __future__ import annotations

from hrms.auth import accounts, forgot
from hrms.db.postgres import tenant_tx
from hrms.tenancy import Actor, Tenant
from hrms.users import links, repo
from hrms.users.models import CreatedUser, NewUser


def create_user(tenant: Tenant, actor: Actor, new: NewUser) -> CreatedUser:
    from hrms.auth.passwords import hash_password, temporary_password  # argon2: only these two functions hash

    password = new.password or temporary_password()
    handed_over = new.password is None and actor.role == accounts.ADMIN  # else nobody but the owner learns it
    with tenant_tx(tenant, actor) as tx:
        accounts.check_may_grant_role(tx, actor, new.role)
        owner = links.employee_email(tx, new.employee_id) if new.employee_id is not None else None
        accounts.check_new_account_owner(actor, new.email, owner, password=new.password is not None)
        links.one_account_per_employee(tx, new.employee_id, None)
        user = repo.insert(
            tx,
            {
                "email": new.email,
                "role": new.role,
                "employee_id": new.employee_id,
                "password_hash": hash_password(password),
                "must_change_password": True,
            },
        )
        if actor.role != accounts.ADMIN:
            forgot.send_link(tx, user.user_id)  # the owner chooses the password
    return CreatedUser(**user.model_dump(), temporary_password=password if handed_over else None)
