"""junit.xml read back with junitparser and checked element by element against the JUnit format rules that
Jenkins (JUnit plugin, junit-10.xsd) and GitLab (unit test reports) document:

  R1  the root element is <testsuites>; its tests/failures/errors are the sums of its suites' (junit-10.xsd
      gives the root no `skipped` attribute).
  R2  every <testsuite> has name, tests, failures, errors, skipped and time; the counts equal its testcases'.
  R3  every <testcase> has classname, name and time (a number of seconds).
  R4  a testcase holds at most one of <failure>, <error>, <skipped>; none means it passed.
  R5  <failure>/<error> carry a message attribute and the details as text; <skipped> a message.
  R6  the document is well-formed XML 1.0 (no characters XML 1.0 forbids, even escaped).
Plus this product's rules (CONTRACT.md): one suite per cluster, classname = rule family,
name = "RULE_ID resource-id: title", counts equal report.json's summary.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

import junitparser
import pytest
from junitparser import Error, Failure, JUnitXml, Skipped, TestSuite

from auditor.models.findings import AuditResult, Status
from auditor.report import Format, render
from auditor.report.common import group_key, xml_safe
from tests.report.fixture import HOSTILE_PARAM, XSS

RESULT_TAGS = {"failure", "error", "skipped"}


def _xml(result: AuditResult) -> JUnitXml:
    text = render(Format.JUNIT, result)
    parsed = JUnitXml.fromstring(text)
    assert isinstance(parsed, JUnitXml)
    return parsed


def test_root_and_suite_counts(result: AuditResult) -> None:
    xml = _xml(result)
    root = ET.fromstring(render(Format.JUNIT, result))
    assert root.tag == "testsuites"  # R1
    suites = list(xml)
    assert all(isinstance(s, TestSuite) for s in suites)
    sums = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for suite_el in root.findall("testsuite"):
        for attr in ("name", "tests", "failures", "errors", "skipped", "time"):  # R2
            assert suite_el.get(attr) not in (None, ""), f"testsuite without {attr}"
        cases = suite_el.findall("testcase")
        assert int(suite_el.get("tests", "-1")) == len(cases)
        assert int(suite_el.get("failures", "-1")) == sum(1 for c in cases if c.find("failure") is not None)
        assert int(suite_el.get("errors", "-1")) == sum(1 for c in cases if c.find("error") is not None)
        assert int(suite_el.get("skipped", "-1")) == sum(1 for c in cases if c.find("skipped") is not None)
        for key in sums:
            sums[key] += int(suite_el.get(key, "0"))
    for key, value in sums.items():  # R1
        if key == "skipped":
            assert root.get("skipped") is None  # not an attribute of <testsuites> in junit-10.xsd
        else:
            assert int(root.get(key, "-1")) == value


def test_counts_equal_the_json_summary(result: AuditResult) -> None:
    root = ET.fromstring(render(Format.JUNIT, result))
    summary = result.compute_summary()
    assert int(root.get("tests", "-1")) == sum(summary.values())
    assert int(root.get("failures", "-1")) == summary["fail"]
    assert int(root.get("errors", "-1")) == summary["error"]
    skipped = sum(int(suite.get("skipped", "0")) for suite in root.findall("testsuite"))
    assert skipped == summary["skipped"] + summary["waived"]
    xml = _xml(result)
    xml.update_statistics()  # junitparser recounts from the cases; must agree with what we wrote
    assert xml.tests == sum(summary.values())
    assert xml.failures == summary["fail"]
    assert xml.errors == summary["error"]
    assert xml.skipped == summary["skipped"] + summary["waived"]


def test_one_suite_per_cluster(result: AuditResult) -> None:
    xml = _xml(result)
    names = [s.name for s in xml if s.tests]
    assert names == sorted({group_key(f) for f in result.findings})
    assert "legacy|<b>x</b>" in names  # attribute escaping round-trips the hostile id exactly


def test_testcases_follow_the_rules(result: AuditResult) -> None:
    by_name = {f"{f.rule_id} {f.resource.id}: {xml_safe(f.title)}": f for f in result.findings}
    seen = 0
    for suite in _xml(result):
        # per-case facts sit in the suite's <properties>, keyed by the case's name
        facts = {p.get("name"): p.get("value") or "" for p in suite._elem.iter("property")}
        for case in suite:
            seen += 1
            assert case.classname and case.name  # R3
            assert isinstance(case.time, float) and case.time >= 0
            kinds = [c.tag for c in case._elem if c.tag in RESULT_TAGS]
            assert len(kinds) <= 1, f"{case.name} has {kinds}"  # R4
            finding = by_name[case.name]
            assert case.classname == finding.family
            results = case.result
            match finding.status:
                case Status.PASS:
                    assert case.is_passed and results == []
                case Status.FAIL:
                    assert len(results) == 1 and isinstance(results[0], Failure)
                    assert results[0].message == xml_safe(finding.message)  # R5
                    assert results[0].type == finding.severity.value
                    assert finding.message.split()[0] in (results[0].text or "")
                case Status.ERROR:
                    assert len(results) == 1 and isinstance(results[0], Error)
                    assert results[0].message
                case Status.SKIPPED | Status.WAIVED:
                    assert len(results) == 1 and isinstance(results[0], Skipped)
                    assert results[0].message
                    if finding.status is Status.WAIVED:
                        assert finding.waiver and finding.waiver in results[0].message
            assert list(case._elem.iter("properties")) == []  # not allowed inside a testcase
            props = dict(kv.split("=", 1) for kv in facts[case.name].split("; "))
            assert props["rule_id"] == finding.rule_id
            assert props["severity"] == finding.severity.value
            assert props.get("resource_arn", "") == xml_safe(finding.resource.arn or "")
    assert seen == len(result.findings)


def test_failure_text_carries_expected_actual_and_compare_columns(result: AuditResult) -> None:
    text = render(Format.JUNIT, result)
    root = ET.fromstring(text)
    bg02 = next(c for c in root.iter("testcase") if c.get("name", "").startswith("BG02 "))
    failure = bg02.find("failure")
    assert failure is not None and failure.text
    assert "rds.logical_replication: expected 0 -> actual 1 (changed; blue: 0)" in failure.text
    assert "remediation: Reset rds.logical_replication" in failure.text


def test_hostile_values_are_escaped_or_stripped(result: AuditResult) -> None:
    text = render(Format.JUNIT, result)
    ET.fromstring(text)  # R6: well-formed
    for ch in ("\x00", "\x0b", "\x1b"):
        assert ch not in text
    assert XSS not in text  # escaped, never raw markup
    assert "]]>" not in text  # serialised as ]]&gt;
    root = ET.fromstring(text)
    pg02 = next(c for c in root.iter("testcase") if c.get("name", "").startswith("PG02 "))
    failure = pg02.find("failure")
    assert failure is not None
    # What a reader sees after parsing is the original text minus the characters XML cannot carry.
    assert xml_safe(HOSTILE_PARAM) in failure.get("message", "")
    assert xml_safe(HOSTILE_PARAM) in (failure.text or "")


def test_collection_errors_reach_the_ci_log(result: AuditResult) -> None:
    root = ET.fromstring(render(Format.JUNIT, result))
    err_text = "\n".join(e.text or "" for e in root.iter("system-err"))
    for e in result.errors:
        assert xml_safe(e.message) in err_text
    # A suite that only carries collection errors has no cases and zero counts.
    extra = [s for s in root.findall("testsuite") if s.get("name") == "collection errors"]
    assert len(extra) == 1 and extra[0].get("tests") == "0"


@pytest.mark.parametrize("bad", ["\x01", "\x1f", "\ufffe", "\ud800"])
def test_every_illegal_xml_character_is_dropped(result: AuditResult, bad: str) -> None:
    f = result.findings[0].model_copy(update={"message": f"a{bad}b", "status": Status.FAIL})
    text = render(Format.JUNIT, result.model_copy(update={"findings": [f]}))
    ET.fromstring(text.encode("utf-8", "surrogatepass"))
    assert "ab" in text


def test_junitparser_version_is_modern() -> None:
    assert int(junitparser.version.split(".")[0]) >= 3


# The structure Jenkins' xUnit plugin validates against (junit-10.xsd), restated as the rules this report must
# meet: which elements may appear where and which attributes each may carry. Unknown attributes are errors.
JUNIT_10_RULES_XSD = """<?xml version="1.0" encoding="UTF-8"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">
  <xs:complexType name="result" mixed="true">
    <xs:attribute name="type" type="xs:string"/>
    <xs:attribute name="message" type="xs:string"/>
  </xs:complexType>
  <xs:element name="property">
    <xs:complexType>
      <xs:attribute name="name" type="xs:string" use="required"/>
      <xs:attribute name="value" type="xs:string" use="required"/>
    </xs:complexType>
  </xs:element>
  <xs:element name="properties">
    <xs:complexType><xs:sequence>
      <xs:element ref="property" minOccurs="0" maxOccurs="unbounded"/>
    </xs:sequence></xs:complexType>
  </xs:element>
  <xs:element name="testcase">
    <xs:complexType>
      <xs:choice minOccurs="0" maxOccurs="unbounded">
        <xs:element name="skipped" type="result"/>
        <xs:element name="error" type="result"/>
        <xs:element name="failure" type="result"/>
        <xs:element name="system-out" type="xs:string"/>
        <xs:element name="system-err" type="xs:string"/>
      </xs:choice>
      <xs:attribute name="name" type="xs:string" use="required"/>
      <xs:attribute name="time" type="xs:string"/>
      <xs:attribute name="classname" type="xs:string"/>
      <xs:attribute name="group" type="xs:string"/>
    </xs:complexType>
  </xs:element>
  <xs:element name="testsuite">
    <xs:complexType>
      <xs:choice minOccurs="0" maxOccurs="unbounded">
        <xs:element ref="properties"/>
        <xs:element ref="testcase"/>
        <xs:element name="system-out" type="xs:string"/>
        <xs:element name="system-err" type="xs:string"/>
      </xs:choice>
      <xs:attribute name="name" type="xs:string" use="required"/>
      <xs:attribute name="tests" type="xs:string" use="required"/>
      <xs:attribute name="failures" type="xs:string" use="required"/>
      <xs:attribute name="errors" type="xs:string" use="required"/>
      <xs:attribute name="skipped" type="xs:string"/>
      <xs:attribute name="time" type="xs:decimal"/>
      <xs:attribute name="timestamp" type="xs:string"/>
      <xs:attribute name="hostname" type="xs:string"/>
      <xs:attribute name="id" type="xs:string"/>
      <xs:attribute name="package" type="xs:string"/>
      <xs:attribute name="group" type="xs:string"/>
      <xs:attribute name="file" type="xs:string"/>
      <xs:attribute name="log" type="xs:string"/>
      <xs:attribute name="url" type="xs:string"/>
    </xs:complexType>
  </xs:element>
  <xs:element name="testsuites">
    <xs:complexType>
      <xs:sequence><xs:element ref="testsuite" minOccurs="0" maxOccurs="unbounded"/></xs:sequence>
      <xs:attribute name="name" type="xs:string"/>
      <xs:attribute name="time" type="xs:decimal"/>
      <xs:attribute name="tests" type="xs:string"/>
      <xs:attribute name="failures" type="xs:string"/>
      <xs:attribute name="errors" type="xs:string"/>
    </xs:complexType>
  </xs:element>
</xs:schema>
"""


def test_valid_against_the_jenkins_junit_schema(result: AuditResult) -> None:
    import xmlschema

    schema = xmlschema.XMLSchema(JUNIT_10_RULES_XSD)
    errors = list(schema.iter_errors(render(Format.JUNIT, result)))
    assert errors == [], errors[:3]


def test_schema_rules_reject_what_jenkins_rejects() -> None:
    import xmlschema

    schema = xmlschema.XMLSchema(JUNIT_10_RULES_XSD)
    bad_case = (
        '<testsuites><testsuite name="a" tests="1" failures="0" errors="0">'
        '<testcase name="x"><properties/></testcase></testsuite></testsuites>'
    )
    bad_root = '<testsuites skipped="1"/>'
    assert not schema.is_valid(bad_case) and not schema.is_valid(bad_root)
