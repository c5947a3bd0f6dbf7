import Foundation
import Testing
@testable import LocScaleCore

@Suite("Output files")
struct OutputFilesTests {
    @Test("commit renames every staged file into place; nothing is visible before")
    func commitRenamesAll() throws {
        let scratch = ScratchDirectory()
        let outputs = OutputFiles()
        try outputs.write(Array("a".utf8), to: scratch.file("a.txt"))
        try outputs.write(Array("b".utf8), to: scratch.file("new/deeper/b.txt"))
        #expect(!FileManager.default.fileExists(atPath: scratch.file("a.txt")))
        try outputs.commit()
        #expect(try String(contentsOfFile: scratch.file("a.txt"), encoding: .utf8) == "a")
        #expect(try String(contentsOfFile: scratch.file("new/deeper/b.txt"), encoding: .utf8) == "b")
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path).sorted() == ["a.txt", "new"])
    }

    @Test("dropped without commit: old files kept, temporaries and new folders removed")
    func dropRemovesEverything() throws {
        let scratch = ScratchDirectory()
        try OutputFiles.write(Array("old".utf8), to: scratch.file("a.txt"))
        do {
            let outputs = OutputFiles()
            try outputs.write(Array("new".utf8), to: scratch.file("a.txt"))
            try outputs.write(Array("b".utf8), to: scratch.file("report/b.txt"))
            #expect(throws: OutputError.cannotWrite(path: scratch.file("c.txt"), reason: "test")) {
                try outputs.write(to: scratch.file("c.txt")) { _ in
                    throw OutputError.cannotWrite(path: scratch.file("c.txt"), reason: "test")
                }
            }
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path) == ["a.txt"])
        #expect(try String(contentsOfFile: scratch.file("a.txt"), encoding: .utf8) == "old")
    }

    @Test("a rename failing midway puts back the outputs already replaced and removes new ones")
    func commitAllOrNone() throws {
        let scratch = ScratchDirectory()
        try OutputFiles.write(Array("old".utf8), to: scratch.file("a.txt"))
        try FileManager.default.createDirectory(atPath: scratch.file("b/inside"), withIntermediateDirectories: true)
        do {
            let outputs = OutputFiles()
            try outputs.write(Array("new".utf8), to: scratch.file("a.txt"))
            try outputs.write(Array("c".utf8), to: scratch.file("c.txt"))
            try outputs.write(Array("b".utf8), to: scratch.file("b"))   // a folder that is not empty
            #expect(throws: OutputError.cannotWrite(path: scratch.file("b"), reason: "Is a directory")) {
                try outputs.commit()
            }
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path).sorted() == ["a.txt", "b"])
        #expect(try String(contentsOfFile: scratch.file("a.txt"), encoding: .utf8) == "old")
        let outputs = OutputFiles()
        try outputs.write(Array("new".utf8), to: scratch.file("a.txt"))
        try outputs.commit()
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path).sorted() == ["a.txt", "b"])
        #expect(try String(contentsOfFile: scratch.file("a.txt"), encoding: .utf8) == "new")
    }

    @Test("checkWritable names a missing folder, or a parent that is a file")
    func checkWritable() throws {
        let scratch = ScratchDirectory()
        try OutputFiles.checkWritable(scratch.file("report/report.html"), mayCreateFolder: true)
        #expect(throws: OutputError.cannotWrite(path: scratch.file("x/y/out.mrc"),
                                                reason: "no such folder \(scratch.file("x/y"))")) {
            try OutputFiles.checkWritable(scratch.file("x/y/out.mrc"))
        }
        try OutputFiles.write([1], to: scratch.file("file"))
        #expect(throws: OutputError.cannotWrite(path: scratch.file("file/out.mrc"),
                                                reason: "\(scratch.file("file")) is not a folder")) {
            try OutputFiles.checkWritable(scratch.file("file/out.mrc"))
        }
    }

    @Test("file identity: the same file under another name, a link, or a path not yet made")
    func identity() throws {
        let scratch = ScratchDirectory()
        try OutputFiles.write([1], to: scratch.file("a"))
        try FileManager.default.createSymbolicLink(atPath: scratch.file("link"), withDestinationPath: "a")
        #expect(FileIdentity(path: scratch.file("a")) == FileIdentity(path: scratch.file("link")))
        #expect(FileIdentity(path: scratch.file("./a")) == FileIdentity(path: scratch.file("a")))
        #expect(FileIdentity(path: scratch.file("new")) == FileIdentity(path: scratch.path + "/../" +
            (scratch.path as NSString).lastPathComponent + "/new"))
        #expect(FileIdentity(path: scratch.file("new")) != FileIdentity(path: scratch.file("a")))
        #expect(NamedPath.firstCollision(outputs: [NamedPath("--out", scratch.file("new"))],
                                         inputs: [NamedPath("--em", scratch.file("a"))]) == nil)
    }
}
