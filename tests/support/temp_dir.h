#pragma once

#include <fstream>
#include <string>

#include <Poco/File.h>
#include <Poco/TemporaryFile.h>

namespace slipway::testing {

// A folder under the system temp dir, removed with everything in it when the
// test ends.
class TempDir {
public:
    TempDir() : path_(Poco::TemporaryFile::tempName()) { Poco::File(path_).createDirectories(); }
    ~TempDir() {
        try {
            Poco::File(path_).remove(true);
        } catch (...) {
        }
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    const std::string& path() const { return path_; }

    // Writes `content` to `relative` inside the folder, creating folders on the way; returns its path.
    std::string write(const std::string& relative, const std::string& content) const {
        const std::string file = path_ + "/" + relative;
        Poco::File(file.substr(0, file.rfind('/'))).createDirectories();
        std::ofstream(file, std::ios::binary) << content;
        return file;
    }

private:
    std::string path_;
};

}  // namespace slipway::testing
