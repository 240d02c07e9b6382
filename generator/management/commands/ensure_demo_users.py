import os

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from assets.models import Membership, Region, Role

# (username, role, municipality, region, superuser) for the demo personas.
PERSONAS = [
    ("admin", None, None, None, True),
    ("yashio", Role.ENGINEER, "112348", None, False),
    ("soka", Role.ENGINEER, "112216", None, False),
    ("nakagawa", Role.COORDINATOR, None, "nakagawa", False),
    ("wajima", Role.ENGINEER, "172049", None, False),
    ("viewer", Role.VIEWER, "112348", None, False),
]


class Command(BaseCommand):
    help = "Create the demo sign-ins (idempotent) and print them. Password from DEMO_PASSWORD."

    @transaction.atomic
    def handle(self, *args, **opts):
        password = os.environ.get("DEMO_PASSWORD", "gunmane-demo")
        User = get_user_model()
        lines = []
        for username, role, code, region, superuser in PERSONAS:
            user, created = User.objects.get_or_create(username=username)
            if created or not user.check_password(password):
                user.set_password(password)
            user.is_staff = True
            user.is_superuser = superuser
            user.save()
            if role:
                region_obj = Region.objects.get(slug=region) if region else None
                Membership.objects.get_or_create(user=user, role=role, municipality_id=code, region=region_obj)
            what = "administrator" if superuser else f"{role} {code or region}"
            lines.append(f"  {username:<10} {password}   ({what})")
        self.stdout.write("Demo sign-ins (user / password):\n" + "\n".join(lines))
