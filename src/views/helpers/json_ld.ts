// Usage: {{json_ld structuredData}} inside <script type="application/ld+json">.
// JSON.stringify alone is not safe in HTML: a product title containing
// "</script>" would end the element, so "<", ">" and "&" are escaped.
import Handlebars from "handlebars";

export default function jsonLd(value: unknown) {
  const json = JSON.stringify(value ?? {})
    .replace(/</g, "\\u003c")
    .replace(/>/g, "\\u003e")
    .replace(/&/g, "\\u0026")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
  return new Handlebars.SafeString(json);
}
