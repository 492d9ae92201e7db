"""What members and coordinators read about the propaganda posts and their quizzes."""

POST_ACK = "👉 Đọc xong, anh/chị trả lời tin này (trích dẫn) bằng “đã đọc” nhé."
POST_QUIZ = "❓ Câu hỏi: {question}\nAnh/chị trả lời bằng cách trích dẫn tin này."
RIGHT = "Đúng rồi, cảm ơn {name}! 👏"
ANSWER_NOTED = "Bot đã ghi nhận câu trả lời của {name}. Đáp án sẽ được gửi khi hết giờ trả lời."
ALREADY_RIGHT = "{name} đã trả lời đúng câu này rồi ạ."
CLOSED = "Câu hỏi này đã hết giờ trả lời, đáp án: {answer}."
READ_NOTED = "Cảm ơn {name} đã đọc."
CLOSE = (
    "📢 Đáp án câu hỏi “{question}”: {answer}.\nCó {right} người trả lời đúng. Cảm ơn mọi người!"
)
LIST_NONE = "Chưa có bài tuyên truyền nào sắp đăng."
LIST_HEADER = "📅 Lịch đăng bài sắp tới ({n} bài):"
LIST_LINE = "• {when} – {text}{quiz}"
LIST_QUIZ = " (có câu hỏi)"
COORDINATOR_ONLY = "Lệnh /lichdang chỉ dành cho điều phối viên."
DIGEST_LINE = "📢 Tuyên truyền: {n} bài, {reach} người đọc/trả lời, {right} câu trả lời đúng."
