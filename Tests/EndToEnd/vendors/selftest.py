"""The stand-in base's own check (VendorStandInTests): one JSON document
with a UUID `id` and an optional `date-time` `t`, 201 when it holds."""
from standin import Vendor, Answer
class Stand(Vendor):
    name = "selftest"
    def handle(self, request):
        doc = request.json()
        problem = self.check(doc, "selftest.json")
        if problem: self.refuse(400, problem)
        return Answer(201, {"ok": True})
