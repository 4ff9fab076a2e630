// MoleculePages: the HTML of the Molecule confirm pages (GET and form POST on
// /workspaces/{ws}/approvals/{id}/approve|deny).
//
// The confirm page is molecule_confirm.html inside the shared layout: the request as Molecule
// shows it (action text, reason, workspace, status) and a form that POSTs back to the same
// path, with the person's approver token (auth on) or name (auth off). Every other page (the
// decision recorded, already decided, refused, form expired, not found, unavailable) is the
// one-click links' own (LinkPages); Notice() covers the few states those have no page for.
// Every value is HTML-escaped (PageTemplate); no JavaScript, nothing external.
// Thread-safe after Load(); `link_pages` must outlive this.
#pragma once

#include <string>
#include <string_view>

#include "core/request.hpp"
#include "core/result.hpp"
#include "web/link_pages.hpp"
#include "web/page_template.hpp"

namespace countersign {

// What the confirm page's form offers.
struct MoleculeConfirmForm {
  std::string workspace;
  std::string choice;  // "approve" or "deny"
  std::string csrf;
  bool token_mode = true;  // auth on: a token field; off: a name field
  std::string default_name = "dashboard";
  std::string error;  // shown above the form (a refused token); empty: none
};

class MoleculePages {
 public:
  // Error::Internal naming the template if one is missing or malformed (a build defect).
  static Result<MoleculePages> Load(const LinkPages& link_pages);

  // Precondition: r.FindChoice(form.choice) is not null.
  std::string Confirm(const Request& r, const MoleculeConfirmForm& form) const;
  // A page with no request on it: `tone` is ok, warn or error.
  std::string Notice(std::string_view heading, std::string_view tone, std::string_view message,
                     std::string_view hint) const;

  const LinkPages& links() const { return link_pages_; }

 private:
  MoleculePages(const LinkPages& link_pages, PageTemplate layout, PageTemplate confirm,
                PageTemplate state)
      : link_pages_(link_pages),
        layout_(std::move(layout)),
        confirm_(std::move(confirm)),
        state_(std::move(state)) {}

  std::string Document(std::string_view title, SafeHtml content) const;

  const LinkPages& link_pages_;
  PageTemplate layout_;
  PageTemplate confirm_;
  PageTemplate state_;
};

}  // namespace countersign
