import Testing
@testable import APIMetrics

func readYAML(_ text: String) throws(YAMLReader.Failure) -> JSONValue {
    try YAMLReader.parse(Array(text.utf8))
}

func yamlFailure(_ bytes: [UInt8]) -> YAMLReader.Failure? {
    do {
        _ = try YAMLReader.parse(bytes)
        return nil
    } catch {
        return error
    }
}

func yamlFailure(_ text: String) -> YAMLReader.Failure? { yamlFailure(Array(text.utf8)) }

private func json(_ text: String) throws -> JSONValue { try JSONParser.parse(Array(text.utf8)) }

@Suite("YAMLReader")
struct YAMLReaderTests {
    @Test func theInterfaceIsTheOneTheLoaderCalls() {
        #expect(YAMLReader.maxBytes == 16 << 20)
        #expect(YAMLReader.maxDepth == 64)
        let failure = YAMLReader.Failure(line: 2, column: 3, reason: "why")
        #expect(failure.description == "line 2, column 3: why")
    }

    @Test(arguments: [
        ("null", "null"), ("Null", "null"), ("NULL", "null"), ("~", "null"), ("", "null"),
        ("true", "true"), ("True", "true"), ("TRUE", "true"), ("false", "false"), ("False", "false"), ("FALSE", "false"),
        ("0", "0"), ("007", "7"), ("+12", "12"), ("-0", "-0"), ("-17", "-17"),
        ("123456789012345678901234567890", "123456789012345678901234567890"),
        ("0o17", "15"), ("0x1F", "31"), ("0xffffffffffffffffffff", "1208925819614629174706175"),
        ("1.5", "1.5"), (".5", "0.5"), ("-.5", "-0.5"), ("1.", "1"), ("+1.25e+3", "1.25e+3"), ("1e5", "1e5"),
        ("00.10E-2", "0.10e-2"),
    ])
    func plainScalarsResolveByTheCoreSchema(_ text: String, _ expected: String) throws {
        #expect(try readYAML("v: \(text)\n") == json("{\"v\":\(expected)}"), "\(text)")
    }

    @Test(arguments: [
        "yes", "no", "on", "off", "1_000", "12:30", "0b101", "0o8", "0x", "1e", "+", ".", "-.", "2001-12-14", "=", "<<x",
    ])
    func otherPlainScalarsAreStrings(_ text: String) throws {
        #expect(try readYAML("v: \(text)\n") == .object([.init("v", .string(text))]))
    }

    @Test func quotedScalarsAreAlwaysStrings() throws {
        #expect(
            try readYAML("- '123'\n- \"true\"\n- 'null'\n- ''\n- \".inf\"\n")
                == .array([.string("123"), .string("true"), .string("null"), .string(""), .string(".inf")]))
    }

    @Test(arguments: [".inf", "-.inf", "+.INF", ".nan", ".NaN"])
    func infinityAndNaNFailForJSONHasNone(_ text: String) throws {
        let failure = try #require(yamlFailure("a: 1\nb: \(text)\n"))
        #expect(failure.line == 2 && failure.column == 4)
        #expect(failure.reason.contains("quote it"))
    }

    @Test func keysAreTheirTextResponseCodesIncluded() throws {
        let value = try readYAML("200: ok\n'404': missing\ntrue: t\n~: n\n3.0: f\n")
        #expect(
            value
                == .object([
                    .init("200", .string("ok")), .init("404", .string("missing")),
                    .init("true", .string("t")), .init("~", .string("n")), .init("3.0", .string("f")),
                ]))
    }

    @Test func duplicateKeysFailAtTheSecondNamingTheFirst() throws {
        let failure = try #require(yamlFailure("a: 1\nb:\n  c: 1\n  c: 2\n"))
        #expect(failure.line == 4 && failure.column == 3)
        #expect(failure.reason.contains("'c'") && failure.reason.contains("line 3"))
        #expect(yamlFailure("{a: 1, \"a\": 2}")?.reason.contains("twice") == true)
    }

    @Test func complexKeysFail() {
        #expect(yamlFailure("? a\n: b\n")?.reason.contains("complex") == true)
        #expect(yamlFailure("{? a : b}")?.reason.contains("complex") == true)
        #expect(yamlFailure("[a]: b\n") != nil)
        #expect(yamlFailure("*a : b\n") != nil)
    }

    @Test func anchorsAndAliasesExpand() throws {
        let value = try readYAML("base: &b {type: string, maxLength: 3}\nname: *b\nlist: [&x 1, *x]\n")
        let base = try json(#"{"type":"string","maxLength":3}"#)
        #expect(
            value == .object([.init("base", base), .init("name", base), .init("list", .array([.number("1"), .number("1")]))]))
        let failure = try #require(yamlFailure("a: 1\nb: *nowhere\n"))
        #expect(failure.line == 2 && failure.column == 4 && failure.reason.contains("*nowhere"))
    }

    @Test func mergeKeysMergeWithWrittenKeysWinning() throws {
        let text = """
            base: &base {type: object, description: base, nullable: true}
            extra: &extra {title: Extra, description: extra}
            derived:
              <<: [*base, *extra]
              description: own
            """
        let value = try readYAML(text)
        guard case let .object(members) = value, let derived = members.last?.value else {
            Issue.record("not an object")
            return
        }
        #expect(derived == (try json(#"{"type":"object","nullable":true,"title":"Extra","description":"own"}"#)))
        #expect(yamlFailure("a:\n  <<: 1\n")?.reason.contains("merge") == true)
        #expect(try readYAML("'<<': 1\n") == .object([.init("<<", .number("1"))]))
    }

    @Test func coreTagsAreHonouredAndOthersFail() throws {
        let value = try readYAML(
            "- !!str 123\n- !!int \"42\"\n- !!float 1\n- !!bool 'true'\n- !!null ''\n- !!map {}\n- !!seq []\n- ! 12\n- !<tag:yaml.org,2002:str> 7\n"
        )
        #expect(
            value
                == .array([
                    .string("123"), .number("42"), .number("1"), .bool(true), .null, .object([]), .array([]), .string("12"),
                    .string("7"),
                ]))
        #expect(yamlFailure("a: !foo x\n")?.reason.contains("!foo") == true)
        #expect(yamlFailure("a: !!binary aGk=\n")?.reason.contains("!!binary") == true)
        #expect(yamlFailure("a: !!int abc\n")?.reason.contains("integer") == true)
        #expect(yamlFailure("a: !!str [1]\n") != nil)
        #expect(yamlFailure("%TAG ! tag:example.com:\n--- a\n")?.reason.contains("%TAG") == true)
    }

    @Test func blockScalarsChompAndFold() throws {
        let text = """
            literal: |
              line one
                indented

              after blank
            strip: |-
              text

            keep: |+
              text

            folded: >
              folded
              lines

              new paragraph
                more indented
              back
            foldedStrip: >-
              a
              b
            explicit: |2
               one space kept
            last: end
            """
        let value = try readYAML(text)
        #expect(
            value
                == .object([
                    .init("literal", .string("line one\n  indented\n\nafter blank\n")),
                    .init("strip", .string("text")),
                    .init("keep", .string("text\n\n")),
                    .init("folded", .string("folded lines\nnew paragraph\n  more indented\nback\n")),
                    .init("foldedStrip", .string("a b")),
                    .init("explicit", .string(" one space kept\n")),
                    .init("last", .string("end")),
                ]))
    }

    @Test func doubleQuotedEscapes() throws {
        let value = try readYAML(
            #"- "\u00e9\U0001F600\x41\t\"\\\/\N\_\L\P\0\e\ \a\b\v\f\r\n""# + "\n" + #"- "\uD83D\uDE00""# + "\n")
        #expect(
            value
                == .array([
                    .string("é😀A\t\"\\/\u{85}\u{A0}\u{2028}\u{2029}\u{0}\u{1B} \u{7}\u{8}\u{B}\u{C}\r\n"),
                    .string("😀"),
                ]))
        for (text, column) in [(#"a: "x\qy""#, 6), (#"a: "\uDE00""#, 5), (#"a: "\uD83Dx""#, 5), (#"a: "\xZZ""#, 5)] {
            let failure = try #require(yamlFailure(text), "\(text)")
            #expect(failure.line == 1 && failure.column == column, "\(text): \(failure)")
        }
    }

    @Test func multiLineScalarsFold() throws {
        let text = """
            plain: first
              second

              third
            double: "a
              b \\
              c\\
              d"
            single: 'it''s
              here'
            """
        #expect(
            try readYAML(text)
                == .object([
                    .init("plain", .string("first second\nthird")),
                    .init("double", .string("a b cd")),
                    .init("single", .string("it's here")),
                ]))
    }

    @Test func flowCollectionsOverSeveralLines() throws {
        let text = """
            a: {x: 1, y: [a, "b", 'c',
                {z: null}], empty: {}, list: [],
              bare, "json":true}
            b: [k: v, 1]
            c: [
              1
            ]
            """
        #expect(
            try readYAML(text)
                == json(
                    #"{"a":{"x":1,"y":["a","b","c",{"z":null}],"empty":{},"list":[],"bare":null,"json":true},"b":[{"k":"v"},1],"c":[1]}"#
                ))
    }

    @Test func sequencesAtTheirKeysIndentationAndCompactMappings() throws {
        let text = """
            tags:
            - name: pets
              description: Pets
            - - nested
              - list
            -
            after: x
            """
        #expect(
            try readYAML(text) == json(#"{"tags":[{"name":"pets","description":"Pets"},["nested","list"],null],"after":"x"}"#))
    }

    @Test func documentMarkersDirectivesCommentsBOMAndCRLF() throws {
        let text = "\u{FEFF}%YAML 1.2\r\n# comment\r\n--- # start\r\na: 1 # trailing\r\n...\r\n# after\r\n"
        #expect(try readYAML(text) == .object([.init("a", .number("1"))]))
        #expect(try readYAML("") == .null)
        #expect(try readYAML("# only a comment\n") == .null)
        let second = try #require(yamlFailure("a: 1\n---\nb: 2\n"))
        #expect(second.line == 2 && second.column == 1 && second.reason.contains("second document"))
        #expect(yamlFailure("a: 1\n...\nb: 2\n") != nil)
    }
}
