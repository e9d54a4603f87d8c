import querystring from "node:querystring";
import test from "ava";
import fc from "fast-check";
import { parseQueryString } from "../../transport/rest/server";

const plain = (m: Map<string, string | string[]>) => Object.fromEntries(m);

test("query strings decode like node:querystring for well-formed input", (t) => {
  const pair = fc.tuple(
    fc.string({ minLength: 1, unit: "grapheme" }),
    fc.string({ unit: "grapheme" }),
  );
  fc.assert(
    fc.property(fc.array(pair, { maxLength: 6 }), fc.boolean(), (pairs, plusForSpace) => {
      const encode = (s: string) => {
        const e = encodeURIComponent(s);
        return plusForSpace ? e.replaceAll("%20", "+") : e;
      };
      const raw = pairs.map(([k, v]) => `${encode(k)}=${encode(v)}`).join("&");
      t.deepEqual(
        plain(parseQueryString(raw)),
        JSON.parse(JSON.stringify(querystring.parse(raw))),
        raw,
      );
    }),
  );
});

test("repeated names give arrays, bare names an empty value, malformed escapes stay as sent", (t) => {
  t.deepEqual(plain(parseQueryString("keys=a,b&x=1&x=2&x=3")), {
    keys: "a,b",
    x: ["1", "2", "3"],
  });
  t.deepEqual(plain(parseQueryString("local&&consistency=sequential")), {
    local: "",
    consistency: "sequential",
  });
  t.deepEqual(plain(parseQueryString("prefix=r%2F&start=%zz")), { prefix: "r/", start: "%zz" });
  // A Map: names such as __proto__ or constructor are just names.
  t.deepEqual(
    [...parseQueryString("__proto__=x&constructor=y")],
    [
      ["__proto__", "x"],
      ["constructor", "y"],
    ],
  );
});
