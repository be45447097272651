#include "tests/integration/openapi_contract.h"

#include <fstream>
#include <regex>
#include <sstream>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/JSON/Stringifier.h>
#include <Poco/NumberParser.h>
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

// `node` with every {"$ref": "#/..."} in it replaced by what it names in `root`.
Poco::Dynamic::Var inlineReferences(const Poco::Dynamic::Var& node, const Poco::JSON::Object::Ptr& root) {
    if (node.type() == typeid(Poco::JSON::Array::Ptr)) {
        Poco::JSON::Array::Ptr copy = new Poco::JSON::Array;
        for (const auto& item : *node.extract<Poco::JSON::Array::Ptr>()) copy->add(inlineReferences(item, root));
        return copy;
    }
    if (node.type() != typeid(Poco::JSON::Object::Ptr)) return node;
    const Poco::JSON::Object::Ptr object = node.extract<Poco::JSON::Object::Ptr>();
    if (object->has("$ref")) {
        const std::string ref = object->getValue<std::string>("$ref");
        Poco::JSON::Object::Ptr target = root;
        std::string::size_type start = 2;  // after "#/"
        while (start < ref.size()) {
            const auto end = std::min(ref.find('/', start), ref.size());
            target = target->getObject(ref.substr(start, end - start));
            if (!target) throw std::runtime_error("cannot resolve " + ref);
            start = end + 1;
        }
        return inlineReferences(target, root);
    }
    Poco::JSON::Object::Ptr copy = new Poco::JSON::Object;
    for (const auto& [name, value] : *object) copy->set(name, inlineReferences(value, root));
    return copy;
}

// A YAML node read from JSON, as JSON again: a quoted scalar is a string, a
// plain one null, a boolean or a number.
Poco::Dynamic::Var toJson(const YAML::Node& node) {
    if (node.IsMap()) {
        Poco::JSON::Object::Ptr object = new Poco::JSON::Object;
        for (const auto& entry : node) object->set(entry.first.as<std::string>(), toJson(entry.second));
        return object;
    }
    if (node.IsSequence()) {
        Poco::JSON::Array::Ptr array = new Poco::JSON::Array;
        for (const YAML::Node& item : node) array->add(toJson(item));
        return array;
    }
    if (!node.IsScalar()) return Poco::Dynamic::Var();
    if (node.Tag() == "!") return node.as<std::string>();
    const std::string text = node.as<std::string>();
    if (text == "null") return Poco::Dynamic::Var();
    if (text == "true" || text == "false") return text == "true";
    Poco::Int64 integer = 0;
    if (Poco::NumberParser::tryParse64(text, integer)) return integer;
    double number = 0;
    if (Poco::NumberParser::tryParseFloat(text, number)) return number;
    return text;
}

// The segments of a path, without its query.
std::vector<std::string> segments(const std::string& path) {
    std::vector<std::string> parts;
    std::string::size_type start = 1;
    const std::string bare = path.substr(0, path.find('?'));
    while (start <= bare.size()) {
        const auto end = std::min(bare.find('/', start), bare.size());
        parts.push_back(bare.substr(start, end - start));
        start = end + 1;
    }
    return parts;
}

}  // namespace

OpenApiContract::OpenApiContract(const std::string& specFile) : spec_(YAML::LoadFile(specFile)) {}

OpenApiContract OpenApiContract::forOperation(const std::string& jsonFile, const std::string& path,
                                              const std::string& method) {
    std::ifstream in(jsonFile);
    const Poco::JSON::Object::Ptr root = Poco::JSON::Parser().parse(in).extract<Poco::JSON::Object::Ptr>();
    const Poco::JSON::Object::Ptr paths = root->getObject("paths");
    if (!paths || !paths->getObject(path) || !paths->getObject(path)->has(method)) {
        throw std::runtime_error(jsonFile + " does not describe " + method + " " + path);
    }
    Poco::JSON::Object::Ptr operations = new Poco::JSON::Object;
    operations->set(method, inlineReferences(paths->getObject(path)->get(method), root));
    Poco::JSON::Object::Ptr onePath = new Poco::JSON::Object;
    onePath->set(path, operations);
    Poco::JSON::Object spec;
    spec.set("paths", onePath);
    std::ostringstream json;
    spec.stringify(json);
    return OpenApiContract(YAML::Load(json.str()));
}

std::string OpenApiContract::checkRequest(const std::string& method, const std::string& path,
                                          const std::string& actualPath, const std::string& contentType,
                                          const std::string& body) {
    const std::string operation = Poco::toUpper(method) + " " + path;
    const YAML::Node& spec = spec_;
    const YAML::Node op = spec["paths"][path][Poco::toLower(method)];
    if (!op) return operation + " is not described\n";
    checked_.insert(operation);
    std::string problems;
    const std::vector<std::string> expected = segments(path), actual = segments(actualPath);
    if (expected.size() != actual.size()) return operation + ": " + actualPath + " does not match the path\n";
    for (std::size_t i = 0; i < expected.size(); ++i) {
        const std::string& part = expected[i];
        if (part.size() > 2 && part.front() == '{' && part.back() == '}') {
            const std::string name = part.substr(1, part.size() - 2);
            for (const YAML::Node& parameter : op["parameters"]) {
                const YAML::Node p = resolve(parameter);
                if (p["in"].as<std::string>() != "path" || p["name"].as<std::string>() != name) continue;
                if (actual[i].empty()) problems += operation + ": path parameter " + name + " is empty\n";
                validate(p["schema"], actual[i], operation + " " + name, problems);
            }
        } else if (part != actual[i]) {
            problems += operation + ": " + actualPath + " does not match the path\n";
        }
    }
    const YAML::Node requestBody = resolve(op["requestBody"]);
    if (!requestBody) return problems;
    if (body.empty()) {
        if (requestBody["required"] && requestBody["required"].as<bool>()) problems += operation + ": no body\n";
        return problems;
    }
    const YAML::Node content = requestBody["content"];
    const std::string type = contentType.substr(0, contentType.find(';'));
    if (!content[type]) return problems + operation + ": Content-Type " + contentType + " is not described\n";
    try {
        validate(content[type]["schema"], Poco::JSON::Parser().parse(body), operation + " body", problems);
    } catch (const Poco::Exception& e) {
        problems += operation + ": body is not JSON: " + e.message() + "\n";
    }
    return problems;
}

std::string OpenApiContract::exampleAnswer(const std::string& method, const std::string& path, int status) const {
    const YAML::Node& spec = spec_;
    const YAML::Node examples =
        spec["paths"][path][Poco::toLower(method)]["responses"][std::to_string(status)]["content"]["application/json"]
            ["examples"];
    if (!examples || !examples.IsMap() || examples.size() == 0) return "{}";
    std::ostringstream json;
    Poco::JSON::Stringifier::stringify(toJson(examples.begin()->second["value"]), json);
    return json.str();
}

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
