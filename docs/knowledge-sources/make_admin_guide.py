"""Generates knowledge/admin/nimbus-admin-guide.pdf (bookmarked chapters)."""
import sys
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.platypus import SimpleDocTemplate, Paragraph, Spacer, PageBreak
from reportlab.platypus.flowables import Flowable

CHAPTERS = [
 ("Single sign-on with SAML", [
  "Business workspaces can require members to sign in through your identity provider (Okta, Microsoft Entra ID, Google Workspace, OneLogin or any SAML 2.0 provider).",
  "In Workspace settings › Security › Single sign-on, copy the Assertion Consumer Service URL and the Entity ID into your identity provider, then upload the provider's metadata XML. Test the connection before you turn on Require SSO; admins can always sign in with a password as a fallback.",
  "Error E-6003: SAML assertion invalid. The identity provider's response could not be verified. The usual causes are a signing certificate that has expired or was rotated without uploading the new metadata, a clock difference of more than 5 minutes between the provider and our servers, or an Entity ID that does not match. Upload fresh metadata and check the provider's clock.",
 ]),
 ("Provisioning users with SCIM", [
  "With SCIM 2.0, your identity provider creates, updates and deactivates workspace members automatically. Generate a SCIM token in Workspace settings › Security › SCIM and paste it with the SCIM base URL into your provider.",
  "Deactivating a user in the identity provider removes them from the workspace within 10 minutes and frees their seat. SCIM tokens do not expire; revoke a token from the same page if it leaks.",
 ]),
 ("Audit log", [
  "The audit log records sign-ins, member and role changes, sharing changes, exports and security setting changes for 2 years. Admins find it in Workspace settings › Audit log and can filter by person, event and date.",
  "Export the audit log as CSV, or stream it to your SIEM (Splunk, Datadog or any HTTPS endpoint) with a webhook. The audit log never contains the content of notes.",
 ]),
 ("Exporting workspace data", [
  "Owners and admins can export every notebook in the workspace from Workspace settings › Data › Export. The export is prepared in the background and a download link valid for 7 days is emailed to you.",
  "Error E-7001: Export too large. One export can contain up to 100 GB. For larger workspaces, export notebooks in groups by selecting them in the export dialog.",
 ]),
 ("API keys and rate limits", [
  "API keys belong to a person and have that person's permissions. Workspace admins can turn off API access for members or restrict it to read-only in Workspace settings › Security › API.",
  "Each key can make 600 requests per minute. Requests over the limit get HTTP status 429 with a Retry-After header telling you how many seconds to wait.",
 ]),
 ("Choosing the data region", [
  "Business workspaces choose where their data is stored when the workspace is created: European Union (Frankfurt), United States (Oregon) or Australia (Sydney). Moving an existing workspace to another region is done by support during a scheduled maintenance window of up to 4 hours; contact us to plan it.",
 ]),
]

class Bookmark(Flowable):
    def __init__(self, title, key):
        super().__init__(); self.title, self.key = title, key
    def wrap(self, *a): return (0, 0)
    def draw(self):
        self.canv.bookmarkPage(self.key)
        self.canv.addOutlineEntry(self.title, self.key, level=0)

def main(out):
    styles = getSampleStyleSheet()
    doc = SimpleDocTemplate(out, pagesize=A4, title="Nimbus Notes Admin Guide", author="Nimbus Labs")
    story = [Paragraph("Nimbus Notes Admin Guide", styles["Title"]),
             Paragraph("For owners and admins of Team and Business workspaces.", styles["Normal"]),
             Spacer(1, 12)]
    for i, (title, paras) in enumerate(CHAPTERS):
        if i:
            story.append(PageBreak())
        story.append(Bookmark(title, f"ch{i}"))
        story.append(Paragraph(title, styles["Heading1"]))
        for p in paras:
            story.append(Paragraph(p, styles["Normal"])); story.append(Spacer(1, 8))
    doc.build(story)

main(sys.argv[1])
