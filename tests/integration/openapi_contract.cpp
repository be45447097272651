#include "tests/integration/openapi_contract.h"

#include <regex>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/String.h>

namespace slipway::testing {
namespace {

std::string typeOf(const Poco::Dynamic::Var& value) {
    if (value.isEmpty()) return "null";
    if (value.type() == typeid(Poco::JSON::Object::Ptr)) return "object";
    if (value.type() == typeid(Poco::JSON::Array::Ptr)) return "array";
    if (value.type() == typeid(bool)) return "boolean";
    if (value.isString()) return "string";
    if (value.isInteger()) return "integer";
    if (value.isNumeric()) return "number";
    return "unknown";
}

}  // namespace

OpenApiContract::OpenApiContract(const std::string& specFile) : spec_(YAML::LoadFile(specFile)) {}

YAML::Node OpenApiContract::resolve(const YAML::Node& node) const {
    if (!node.IsMap() || !node["$ref"]) return node;
    // Only local references: #/components/<kind>/<name>.
    const std::string ref = node["$ref"].as<std::string>();
    // reset() rebinds; assigning one YAML::Node to another would overwrite the spec.
    YAML::Node target;
    target.reset(spec_);
    std::string::size_type start = 2;
    while (start < ref.size()) {
        const auto end = std::min(ref.find('/', start), ref.size());
        const YAML::Node& parent = target;
        target.reset(parent[ref.substr(start, end - start)]);
        start = end + 1;
    }
    return resolve(target);
}

void OpenApiContract::validate(const YAML::Node& schemaNode, const Poco::Dynamic::Var& value, const std::string& where,
                               std::string& problems) const {
    const YAML::Node schema = resolve(schemaNode);
    const std::string actual = typeOf(value);
    if (actual == "null") {
        if (!(schema["nullable"] && schema["nullable"].as<bool>())) problems += where + ": null but not nullable\n";
        return;
    }
    if (schema["type"]) {
        const std::string expected = schema["type"].as<std::string>();
        const bool ok = expected == actual || (expected == "number" && actual == "integer");
        if (!ok) {
            problems += where + ": expected " + expected + ", got " + actual + "\n";
            return;
        }
    }
    if (schema["enum"]) {
        bool found = false;
        for (const YAML::Node& option : schema["enum"]) found = found || option.as<std::string>() == value.convert<std::string>();
        if (!found) problems += where + ": " + value.convert<std::string>() + " is not in the enum\n";
    }
    if (actual == "string") {
        const std::string text = value.extract<std::string>();
        if (schema["pattern"] && !std::regex_search(text, std::regex(schema["pattern"].as<std::string>()))) {
            problems += where + ": '" + text + "' does not match " + schema["pattern"].as<std::string>() + "\n";
        }
        static const std::regex dateTime("[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})");
        if (schema["format"] && schema["format"].as<std::string>() == "date-time" && !std::regex_match(text, dateTime)) {
            problems += where + ": '" + text + "' is not an RFC 3339 date-time\n";
        }
    }
    if (actual == "integer" || actual == "number") {
        const double number = value.convert<double>();
        if (schema["minimum"] && number < schema["minimum"].as<double>()) problems += where + ": below minimum\n";
        if (schema["maximum"] && number > schema["maximum"].as<double>()) problems += where + ": above maximum\n";
    }
    if (actual == "object") {
        const Poco::JSON::Object::Ptr object = value.extract<Poco::JSON::Object::Ptr>();
        for (const YAML::Node& key : schema["required"]) {
            if (!object->has(key.as<std::string>())) problems += where + ": missing " + key.as<std::string>() + "\n";
        }
        const YAML::Node properties = schema["properties"];
        const bool closed = schema["additionalProperties"] && !schema["additionalProperties"].as<bool>();
        for (const auto& [name, member] : *object) {
            if (properties && properties[name]) {
                validate(properties[name], member, where + "." + name, problems);
            } else if (closed) {
                problems += where + ": property " + name + " is not described\n";
            }
        }
    }
    if (actual == "array" && schema["items"]) {
        const Poco::JSON::Array::Ptr array = value.extract<Poco::JSON::Array::Ptr>();
        for (std::size_t i = 0; i < array->size(); ++i) {
            validate(schema["items"], array->get(static_cast<unsigned>(i)), where + "[" + std::to_string(i) + "]", problems);
        }
    }
}

std::string OpenApiContract::check(const std::string& method, const std::string& path, const HttpAnswer& answer) {
    const std::string operation = Poco::toUpper(method) + " " + path;
    const YAML::Node& spec = spec_;  // const: lookups must not add nodes
    const YAML::Node op = spec["paths"][path][Poco::toLower(method)];
    if (!op) return operation + " is not described\n";
    checked_.insert(operation);
    const YAML::Node response = resolve(op["responses"][std::to_string(answer.status)]);
    if (!response) return operation + ": status " + std::to_string(answer.status) + " is not described\n";
    const YAML::Node content = response["content"];
    if (!content) return {};

    const auto header = answer.headers.find("Content-Type");
    const std::string contentType = header == answer.headers.end() ? "" : header->second;
    std::string problems;
    for (const auto& entry : content) {
        const std::string type = entry.first.as<std::string>();
        if (contentType.rfind(type, 0) != 0) continue;
        if (type != "application/json") return {};
        try {
            validate(entry.second["schema"], Poco::JSON::Parser().parse(answer.body), operation, problems);
        } catch (const Poco::Exception& e) {
            problems += operation + ": body is not JSON: " + e.message() + "\n";
        }
        return problems;
    }
    return operation + ": Content-Type " + contentType + " is not described for " + std::to_string(answer.status) + "\n";
}

std::vector<std::string> OpenApiContract::unchecked() const {
    std::vector<std::string> missing;
    for (const auto& path : spec_["paths"]) {
        for (const auto& method : path.second) {
            const std::string operation =
                Poco::toUpper(method.first.as<std::string>()) + " " + path.first.as<std::string>();
            if (!checked_.count(operation)) missing.push_back(operation);
        }
    }
    return missing;
}

}  // namespace slipway::testing
