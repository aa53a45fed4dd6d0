package sqlite

// 0009_stream_floors changes no table: it marks the file as one whose streams.next_offset is
// a floor that only link moves raise (heads.go), not a count kept at every commit. A program
// from before it would count on from a stale floor while links are still pending, handing
// offsets out twice; it knows no 0009 and so refuses the file. Written by such a program,
// the counts are exact floors already.
var _ = register("0009_stream_floors", `SELECT 1;`)
