#include "web/page_template.hpp"

#include <cstring>

#include "core/bidi_controls.hpp"
#include "core/embedded_file.hpp"

namespace countersign {
namespace {

bool IsName(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

}  // namespace

PageTemplate::Values& PageTemplate::Values::Text(std::string name, std::string text) {
  // A right-to-left override inside a <bdi> still reverses what follows it there: name it.
  values_[std::move(name)] = HtmlEscape(ShowBidiControls(text));
  return *this;
}

PageTemplate::Values& PageTemplate::Values::Html(std::string name, SafeHtml html) {
  values_[std::move(name)] = std::move(html);
  return *this;
}

PageTemplate::Values& PageTemplate::Values::Flag(std::string name, bool on) {
  values_[std::move(name)] = on ? HtmlEscape("1") : SafeHtml();
  return *this;
}

Result<PageTemplate> PageTemplate::Parse(std::string_view name, std::string_view text) {
  auto fail = [&](std::string_view why, std::string_view tag) {
    return Error::Internal("template " + std::string(name) + ": " + std::string(why) + " {{" +
                           std::string(tag) + "}}");
  };
  // The open sections, innermost last; the root collects top-level nodes.
  std::vector<Node> stack(1);
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t open = text.find("{{", pos);
    if (open == std::string_view::npos) {
      stack.back().children.push_back({Node::Type::kLiteral, std::string(text.substr(pos)), {}});
      break;
    }
    if (open > pos) {
      stack.back().children.push_back(
          {Node::Type::kLiteral, std::string(text.substr(pos, open - pos)), {}});
    }
    const size_t close = text.find("}}", open + 2);
    if (close == std::string_view::npos) return fail("unclosed tag", text.substr(open + 2, 20));
    const std::string_view tag = text.substr(open + 2, close - open - 2);
    pos = close + 2;
    const char sigil = tag.empty() ? '\0' : tag.front();
    if (sigil == '#' || sigil == '^' || sigil == '/') {
      const std::string_view section = tag.substr(1);
      if (!IsName(section)) return fail("malformed tag", tag);
      if (sigil == '/') {
        if (stack.size() < 2 || stack.back().text != section) return fail("unbalanced", tag);
        Node done = std::move(stack.back());
        stack.pop_back();
        stack.back().children.push_back(std::move(done));
        continue;
      }
      stack.push_back(
          {sigil == '#' ? Node::Type::kSection : Node::Type::kInverted, std::string(section), {}});
      continue;
    }
    if (!IsName(tag)) return fail("malformed tag", tag);
    stack.back().children.push_back({Node::Type::kValue, std::string(tag), {}});
  }
  if (stack.size() != 1) return fail("unclosed section", "#" + stack.back().text);
  return PageTemplate(std::move(stack.front().children));
}

void PageTemplate::RenderNodes(const std::vector<Node>& nodes, const Values& values,
                               std::string& out) {
  for (const auto& node : nodes) {
    const auto found =
        node.type == Node::Type::kLiteral ? values.values_.end() : values.values_.find(node.text);
    const bool set = found != values.values_.end() && !found->second.empty();
    switch (node.type) {
      case Node::Type::kLiteral:
        out += node.text;
        break;
      case Node::Type::kValue:
        if (set) out += found->second.str();
        break;
      case Node::Type::kSection:
        if (set) RenderNodes(node.children, values, out);
        break;
      case Node::Type::kInverted:
        if (!set) RenderNodes(node.children, values, out);
        break;
    }
  }
}

SafeHtml PageTemplate::Render(const Values& values) const {
  std::string out;
  RenderNodes(nodes_, values, out);
  return SafeHtml(std::move(out));
}

extern const EmbeddedFile kWebFiles[];

Result<std::string_view> EmbeddedWebFile(const char* name) {
  for (const EmbeddedFile* file = kWebFiles; file->name != nullptr; ++file) {
    if (std::strcmp(file->name, name) == 0) return std::string_view(file->content);
  }
  return Error::Internal(std::string("web file ") + name + " is not embedded in this binary");
}

Result<PageTemplate> LoadEmbeddedTemplate(const char* name) {
  auto text = EmbeddedWebFile(name);
  if (!text.ok()) return std::move(text).error();
  return PageTemplate::Parse(name, text.value());
}

}  // namespace countersign
